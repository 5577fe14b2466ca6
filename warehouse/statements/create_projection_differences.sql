-- verify: the rows of one projection (the marker table) that the checked warehouse (attached as warehouse) and the scratch's rebuild from the log (memory) do not hold equally often, in one grouped pass; verify_surplus > 0: more often in the warehouse.
CREATE OR REPLACE TEMP TABLE verify_projection_differences AS
SELECT *
FROM (
    SELECT COLUMNS(* EXCLUDE (verify_side)), sum(verify_side) AS verify_surplus
    FROM (
        SELECT *, 1 AS verify_side FROM {{warehouse.table}}
        UNION ALL
        SELECT *, -1 AS verify_side FROM {{memory.table}}
    )
    GROUP BY ALL
)
WHERE verify_surplus <> 0
