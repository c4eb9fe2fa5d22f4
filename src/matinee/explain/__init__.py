"""What models learned: analyses that return data, and the pictures drawn from them."""
