"""Date formats per language (FORMAT_MODULE_PATH): never a bare day/month pair.

Django's own formats print 2 December as "12/02/2026" in English (month first) and Arabic (day
first): the same string for two dates. A register shown to a regulator must not be read wrong, so
every language writes the month as a word ("2 Dec 2026", "2 dic 2026", "2 ديسمبر 2026"), in a
24-hour clock as in the PDFs. Whatever is not set here falls back to Django's locale formats.
"""
