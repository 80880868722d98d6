"""Pure rules of Tenure: no web or database framework is imported below this package."""
