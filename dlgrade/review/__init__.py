"""The review desk: a local web page where a TA grades the manual parts question by question."""
