-- The decided rows (_decided) that amend a protocol, with their file's place (file_no), row and the reason the file gives (_batch).
SELECT d.file_no, d.row, b.reason
FROM _decided d JOIN _batch b USING (file_no, row)
WHERE d.decision = 'amended'
