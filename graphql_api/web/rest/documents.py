"""The stored GraphQL operations behind the REST routes, one named operation each.

A route sends one of these with variables taken from its path, query and body
(Hasura's "RESTified endpoints"): the same schema, loaders, stores, roles and
limits as any GraphQL client's operation, and the same fast path. Their names
are what the access log and the metrics' `operation` label show.
"""

from __future__ import annotations

_CUSTOMER_FIELDS = """
fragment RestCustomerFields on Customer {
  id name contactPerson email phone address city state zipCode country
  status version createdAt updatedAt source
}
"""

_REP_FIELDS = """
fragment RestSalesRepFields on SalesRep {
  id firstName lastName email phone region active source
}
"""

# A customer as every route answers it: its rep and its newest history.
_CUSTOMER_IN_FULL = (
    _CUSTOMER_FIELDS
    + _REP_FIELDS
    + """
fragment RestCustomerInFull on Customer {
  ...RestCustomerFields
  salesRep { ...RestSalesRepFields }
  history(first: 20) {
    kind at actor note fromStatus toStatus fromSalesRep { id } toSalesRep { id }
  }
}
"""
)

# What a write answers: the customer, or the typed failure with its fields.
_CUSTOMER_RESULT = """
fragment RestCustomerResult on CustomerResult {
  __typename
  ...RestCustomerInFull
  ... on UserError { code message }
  ... on NotFoundError { id }
  ... on ValidationError { field }
  ... on VersionConflictError { currentVersion }
  ... on AlreadyExistsError { id }
}
"""

GET_CUSTOMER = "RestGetCustomer"
GET_REP_CUSTOMERS = "RestGetSalesRepCustomers"
ASSIGN_CUSTOMER = "RestAssignCustomer"
CREATE_CUSTOMER = "RestCreateCustomer"
UNASSIGN_CUSTOMER = "RestUnassignCustomer"
UPDATE_STATUS = "RestUpdateCustomerStatus"


def _write(operation: str, field: str) -> str:
    """A stored mutation: one write of `field`, its result with the customer in full."""
    input_type = field[0].upper() + field[1:] + "Input"
    return f"""
mutation {operation}($input: {input_type}!) {{
  result: {field}(input: $input) {{ ...RestCustomerResult }}
}}
{_CUSTOMER_RESULT}{_CUSTOMER_IN_FULL}"""


DOCUMENTS: dict[str, str] = {
    GET_CUSTOMER: f"""
query {GET_CUSTOMER}($id: ID!) {{ customer(id: $id) {{ ...RestCustomerInFull }} }}
{_CUSTOMER_IN_FULL}""",
    GET_REP_CUSTOMERS: f"""
query {GET_REP_CUSTOMERS}($id: ID!, $first: Int!, $after: String) {{
  salesRep(id: $id) {{
    ...RestSalesRepFields
    customers(first: $first, after: $after) {{
      nodes {{ ...RestCustomerFields }}
      pageInfo {{ hasNextPage endCursor }}
      totalCount
    }}
  }}
}}
{_CUSTOMER_FIELDS}{_REP_FIELDS}""",
    ASSIGN_CUSTOMER: _write(ASSIGN_CUSTOMER, "assignCustomer"),
    CREATE_CUSTOMER: _write(CREATE_CUSTOMER, "createCustomer"),
    UNASSIGN_CUSTOMER: _write(UNASSIGN_CUSTOMER, "unassignCustomer"),
    UPDATE_STATUS: _write(UPDATE_STATUS, "updateCustomerStatus"),
}
