"""Gettext catalogs (bg, en) and the per-language privacy notice texts."""
