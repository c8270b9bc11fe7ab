"""The xAPI Statement resource: validation, storage, queries, voiding, attachments."""
