"""The course catalog: courses, series and continuing-education bases (§四, §三)."""
