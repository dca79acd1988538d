// How a front end uses the generated types; compiled by `npm run typecheck` (make test), so
// a contract change that breaks this use breaks the build here first.
import type { CustomerPageQuery, CustomerPageQueryVariables } from "./generated/graphql";
import { AssignCustomerDocument } from "./generated/graphql";

export const variables: CustomerPageQueryVariables = { id: "C-00001", historySize: 5 };

export function headline(answer: CustomerPageQuery): string {
  const customer = answer.customer;
  if (customer == null) return "no such customer";
  const rep = customer.salesRep ? ` (${customer.salesRep.fullName})` : "";
  return `${customer.name}, version ${customer.version}${rep}, from ${customer.source}`;
}

export const assign = AssignCustomerDocument;
