"""GraphQL API for customers and the sales reps who look after them."""
