"""The kernel every package may import: authentication and clients, errors and
problem+json, the HTTP rules every route shares (HEAD, query parameters, preconditions,
body limits and gzip), and the database with its embedded store. It imports no domain
package and nothing of the composition root but its settings."""
