// The read-only flow diagram: bpmn-js's navigated viewer draws the XML shown below it on the page.
// A document without diagram interchange (BPMNDI) has nothing to draw: the steps table stays the view.
document.addEventListener("DOMContentLoaded", async () => {
  const canvas = document.getElementById("bpmn-canvas");
  const source = document.querySelector("[data-testid=bpmn-xml]");
  if (!canvas || !source || typeof BpmnJS === "undefined") return;
  const viewer = new BpmnJS({ container: canvas });
  try {
    await viewer.importXML(source.textContent);
    viewer.get("canvas").zoom("fit-viewport");
  } catch (err) {
    canvas.textContent = "No diagram: " + err.message + " (the steps table and the XML describe the flow).";
    canvas.classList.add("text-secondary", "p-3");
  }
});
