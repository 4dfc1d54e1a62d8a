"""The face studio: photo libraries with every face found, people, search by sample, clustering and export.

No Streamlit here: the pages and the command line (`python -m core studio`) are thin layers over
these modules. Every function takes the owner's account id first: a library belongs to the account
that imported it, and nobody else (admins included) sees, searches, exports or deletes it.
"""
