"""One ComponentResource per module. Components take typed Args and never read config."""
