// The order's flow drawn by bpmn-js's viewer, with the path the order took: completed steps and the flows
// between them marked "done", the step it waits at marked "current" (marks from the flow instance's state).
document.addEventListener("DOMContentLoaded", async () => {
  const canvas = document.getElementById("order-diagram");
  const source = document.getElementById("order-diagram-xml");
  const marks = document.getElementById("order-diagram-marks");
  if (!canvas || !source || !marks || typeof BpmnJS === "undefined") return;
  const path = JSON.parse(marks.textContent);
  const viewer = new BpmnJS({ container: canvas });
  try {
    await viewer.importXML(source.textContent);
  } catch (err) {
    canvas.textContent = "No diagram: " + err.message + " (the step log describes the path).";
    canvas.classList.add("text-secondary", "p-3");
    return;
  }
  const drawing = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const mark = (ids, name) => ids.forEach((id) => { if (registry.get(id)) drawing.addMarker(id, name); });
  mark(path.done, "telora-done");
  mark(path.flows, "telora-done");
  mark(path.current, "telora-current");
  drawing.zoom("fit-viewport");
  canvas.dataset.marked = "true";
});
