SELECT cursor_value
FROM etl.extract_watermark
WHERE source_db = %(source_db)s AND table_name = %(table_name)s
