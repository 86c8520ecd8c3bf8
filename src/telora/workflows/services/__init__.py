"""Every write of the workflows app (flows and desks; running instances and desk tasks)."""

from telora.workflows.services.flows import (
                                             create_desk,
                                             load_flows,
                                             publish_flow,
                                             publish_version,
                                             save_flow,
                                             validate_flow,
)
from telora.workflows.services.run import (
                                             advance_instance,
                                             cancel_instance,
                                             claim_task,
                                             clean_form,
                                             compensate,
                                             complete_task,
                                             deliver_message,
                                             start_instance,
                                             unclaim_task,
                                             wake_due,
)

__all__ = ["create_desk", "load_flows", "publish_flow", "publish_version", "save_flow", "validate_flow",
           "advance_instance", "cancel_instance", "claim_task", "clean_form", "compensate", "complete_task", "deliver_message",
           "start_instance", "unclaim_task", "wake_due"]
