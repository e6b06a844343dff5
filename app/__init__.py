"""civicloop: crowdsourced civic issue reporting."""
