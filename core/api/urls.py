# Ids in URLs: at most 18 digits, so every id that matches fits a 64-bit integer column; longer
# ones fall through to the JSON 404 instead of overflowing the database driver.
ID_PATTERN = r"[0-9]{1,18}"
