"""What is true about each tenant: the model, the inputs, the join and the one health module."""
