"""Rewrite rules, one pattern family per module.

Each module declares `RECOGNIZERS` (CST -> IR, or a refusal) and/or `EMITTERS` (IR -> CST) and
is picked up by `slimify.engine.load_codemods`; adding a rule is adding a file.
"""
