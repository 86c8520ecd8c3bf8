"""The customer screens (namespace `customers`): the call-center view of a customer and its lines."""
