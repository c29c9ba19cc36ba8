"""The duplicate worklist's pages: the filtered, paged list of a scan's pairs,
assignment, and Scan now (their template: web/templates/web/worklist/)."""
