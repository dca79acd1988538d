"""The live feed of customer events: one poller per process (hub.py), the
order of ids that commit out of order (sequencer.py), each subscription's
replay-then-live stream (subscription.py) and the events query's pages
(pages.py). Reads the audit trail through stores.protocol.EventFeedReader;
knows nothing of GraphQL or websockets."""
