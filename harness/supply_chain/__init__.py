"""What is in the image and the harness, and whether any of it has a published vulnerability."""
