"""The path an instance took through its flow, for a viewer to mark: the BPMN elements it completed,
where it waits, and the sequence flows it took, read from its saved state."""

from __future__ import annotations

from lxml import etree

from telora.workflows.engine.spiff import BPMN_NS


def instance_path(instance) -> dict[str, list[str]]:
    """{"done": completed elements, "current": where it waits, "flows": sequence flows taken (both ends
    done, or from a done element to a current one)}."""
    from SpiffWorkflow.util.task import TaskState

    from telora.workflows.engine import spiff

    try:
        workflow = spiff.load(instance.state_json, instance.version)
    except Exception:  # a state this version cannot read: no marks, the diagram still shows the flow
        return {"done": [], "current": [], "flows": []}
    done, current = set(), set()
    for task in workflow.get_tasks():
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element:
            continue
        if task.state == TaskState.COMPLETED:
            done.add(element)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR):
            current.add(element)
    current -= done
    flows = []
    root = etree.fromstring(instance.version.bpmn_xml.encode(), etree.XMLParser(resolve_entities=False,
                                                                                no_network=True))
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        if flow.get("sourceRef") in done and (flow.get("targetRef") in done or flow.get("targetRef") in current):
            flows.append(flow.get("id"))
    return {"done": sorted(done), "current": sorted(current), "flows": flows}
