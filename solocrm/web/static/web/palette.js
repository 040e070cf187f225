// The global search and command palette: filled in by the search work (issue 12, item 2).
