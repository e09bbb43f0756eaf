"""``metastore serve``: a local web app over a catalog (``app.py`` routes and security checks,
``api.py`` the JSON API calling the library, ``thumbs.py`` thumbnails, ``static/`` the page).
Imported only by the ``serve`` command: Starlette, uvicorn and Pillow stay out of every other one."""
