"""The embeddable comment widget, its static files, the demo page and the no-JavaScript page."""
