"""The xAPI learning record store: Statements, documents, and the credit ledger built on
them. Conformant to xAPI 1.0.3 and 2.0.0, chosen per request by X-Experience-API-Version."""
