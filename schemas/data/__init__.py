"""Catalogue data: facility facts, the generator of the facility JSON files, the parcours."""
