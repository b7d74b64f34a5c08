"""The payments part of the DRF API: thin views over the same services and selectors as the pages."""
