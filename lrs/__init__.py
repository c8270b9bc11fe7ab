"""The xAPI learning record store: Statements, documents, Activities and Agents.
Conformant to xAPI 1.0.3 and 2.0.0, chosen per request by X-Experience-API-Version. It
knows no domain: it publishes what it stored (`lrs.events`) for the rest of the service."""
