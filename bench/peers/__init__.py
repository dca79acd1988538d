"""Peers the API is compared with; each answers O1..O4 with the API's JSON."""
