// The read-only flow diagram: bpmn-js's navigated viewer draws the flow's document. The page gives it
// as JSON (#bpmn-diagram: the document with a drawing laid out when it had none) or, on older pages,
// as the XML shown on the page. A document that still cannot be drawn leaves the steps table as the view.
document.addEventListener("DOMContentLoaded", async () => {
  const canvas = document.getElementById("bpmn-canvas");
  const data = document.getElementById("bpmn-diagram");
  const source = document.querySelector("[data-testid=bpmn-xml]");
  const xml = data ? JSON.parse(data.textContent) : source && source.textContent;
  if (!canvas || !xml || typeof BpmnJS === "undefined") return;
  const viewer = new BpmnJS({ container: canvas });
  try {
    await viewer.importXML(xml);
    viewer.get("canvas").zoom("fit-viewport");
    canvas.dataset.ready = "true";
  } catch (err) {
    canvas.textContent = "No diagram: " + err.message + " (the steps table and the XML describe the flow).";
    canvas.classList.add("text-secondary", "p-3");
  }
  const svgLink = document.querySelector("[data-testid=download-svg]");
  if (svgLink) {
    svgLink.addEventListener("click", async (event) => {
      event.preventDefault();
      const { svg } = await viewer.saveSVG();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
      link.download = svgLink.dataset.filename || "flow.svg";
      link.click();
      URL.revokeObjectURL(link.href);
    });
  }
});
