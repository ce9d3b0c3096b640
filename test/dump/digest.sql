-- One line per table: the digest of every value's binary form (send), so
-- "equal" means byte-equal.
SELECT 'every_type', md5(string_agg(concat_ws(',', id, vclock_send(v), gcounter_send(g), pncounter_send(p),
       gset_send(gs), twopset_send(tp), orset_send(o), lwwreg_send(l), mvreg_send(m)), '|' ORDER BY id))
FROM every_type
UNION ALL
SELECT 'inventory', md5(string_agg(concat_ws(',', sku, pncounter_send(stock), orset_send(tags), price,
       vclock_send(clk), lwwreg_send(writer)), '|' ORDER BY sku)) FROM inventory
UNION ALL
SELECT 'conflicts', md5(string_agg(c::text, '|' ORDER BY id)) FROM crdt_reconcile.conflicts c
UNION ALL
SELECT 'tracked', md5(string_agg(t::text, '|' ORDER BY relation)) FROM crdt_reconcile.tracked t;
