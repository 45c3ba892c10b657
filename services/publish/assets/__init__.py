"""Static assets of the publish service (fonts); a package so the font ships in the wheel."""
