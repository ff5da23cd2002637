"""Platform operators' agency pages (issue 13, data sovereignty): the list of agencies with
their storage locations, creating one in a chosen location, one agency's page. On the
platform's own domain only; the writes are accounts.services.agencies."""
