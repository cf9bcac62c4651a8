"""How a deployment of the API comes to be and goes away: a process, a local container, or Azure."""
