"""Orders: every change to a customer's services is an order with a gap-free number, items, a flow
(BPMN, run by `telora.workflows` when installed) and a step log; TMF622 Product Ordering."""
