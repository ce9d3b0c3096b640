--
-- Upgrading: data written under 0.1 and 0.3 stays readable and
-- byte-identical through ALTER EXTENSION UPDATE, and the upgraded
-- extension is the fresh 0.5 install (crdt_reconcile--0.5.sql, built from
-- src/sql/) object for object and definition for definition.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS crdt_reconcile CASCADE;
CREATE EXTENSION crdt_reconcile VERSION '0.1';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'crdt_reconcile';

-- ---------------------------------------------------------------- written under 0.1
CREATE TABLE written_by_01 (id int PRIMARY KEY, k int, v vclock, g gcounter, p pncounter);
INSERT INTO written_by_01
SELECT i, i % 3, crdt_tick('{}'::vclock, 'r' || i), crdt_increment('{}'::gcounter, i, 'r' || i),
       crdt_decrement('{}'::pncounter, i, 'r' || i)
FROM generate_series(1, 30) i;
CREATE TEMP TABLE before AS
SELECT id, vclock_send(v) AS v, gcounter_send(g) AS g, pncounter_send(p) AS p,
       crdt_hash(v) AS hv, crdt_hash(g) AS hg, crdt_hash(p) AS hp FROM written_by_01;
SELECT to_regtype('orset') IS NULL AS no_orset_in_01;

-- ---------------------------------------------------------------- written under 0.3
ALTER EXTENSION crdt_reconcile UPDATE TO '0.3';
SELECT extversion FROM pg_extension WHERE extname = 'crdt_reconcile';
-- Only the current library is installed, and its trigger reads 0.4's
-- settings: the rows are written before the tables are tracked, and the
-- conflict records as the 0.3 trigger would have written them.
CREATE TABLE inventory_03 (id int PRIMARY KEY, clk vclock, writer lwwreg, name text, stock pncounter,
                           tags orset, owners gset, retired twopset, plan mvreg, price lwwreg);
INSERT INTO inventory_03
SELECT i, crdt_tick('{}'::vclock, 'n1'), crdt_set('{}'::lwwreg, 'null', 'n1'), 'item ' || i,
       crdt_increment('{}'::pncounter, 10 * i, 'n1'), crdt_add('{}'::orset, 'tag' || i, 'n1'),
       crdt_add('{}'::gset, 'owner' || i), crdt_remove(crdt_add('{}'::twopset, 'old' || i), 'old' || i),
       crdt_set('{}'::mvreg, to_jsonb(i), 'n1'), crdt_set('{}'::lwwreg, to_jsonb(i * 1.5), '2024-01-01'::timestamptz, 'n1')
FROM generate_series(1, 5) i;
CREATE TABLE counts_03 (id int, replica text, clk vclock, n gcounter, PRIMARY KEY (id, replica));
INSERT INTO counts_03
SELECT i, r, crdt_tick('{}'::vclock, r), crdt_increment('{}'::gcounter, i, r)
FROM generate_series(1, 3) i, unnest(ARRAY['n1', 'n2']) r;
SELECT relation, shape, key_columns, clock_column, writer_column, invariant
FROM crdt_reconcile.track('inventory_03', clock_column => 'clk', writer_column => 'writer',
                          invariant => 'crdt_value(stock) >= 0');
SELECT relation, shape, key_columns, clock_column, replica_column
FROM crdt_reconcile.track('counts_03', shape => 'replica_rows', replica_column => 'replica', clock_column => 'clk');
-- 0.3 kept the settings of a table dropped while tracked
CREATE TABLE gone_03 (id int PRIMARY KEY, n gcounter);
SELECT relation FROM crdt_reconcile.track('gone_03');
DROP TABLE gone_03;
INSERT INTO crdt_reconcile.conflicts (relation, row_key, column_name, kind, local_clock, remote_clock,
                                      local_value, remote_value, result_value, resolution, origin, status)
VALUES ('inventory_03', '{"id": 1}', 'name', 'concurrent_update', '{"n1":2}', '{"n2":1}',
        '"item 1"', '"item one"', '"item one"', 'applied_remote', 'n2', 'auto_resolved'),
       ('inventory_03', '{"id": 2}', 'plan', 'multi_value', '{"n1":1}', '{"n3":1}',
        '[2]', '[20]', '[2, 20]', 'pending', 'n3', 'open'),
       ('counts_03', '{"id": 1}', NULL, 'stale_update', '{"n1":1}', '{}', NULL, NULL, NULL, 'kept_local', 'n2', 'resolved');
-- their bytes (the settings of 0.3's columns), now
CREATE TEMP VIEW written_03_now AS
SELECT 'inventory_03' AS what, t.id::text AS k, record_send(t) AS bytes FROM inventory_03 t
UNION ALL
SELECT 'counts_03', t.id || '/' || t.replica, record_send(t) FROM counts_03 t
UNION ALL
SELECT 'conflicts', c.id::text, record_send(c) FROM crdt_reconcile.conflicts c
UNION ALL
SELECT 'tracked', t.relation::text,
       record_send((t.relation, t.shape, t.key_columns, t.clock_column, t.writer_column, t.replica_column,
                    t.invariant, t.log_merges, t.record_stale, t.tracked_at, t.tracked_by))
FROM crdt_reconcile.tracked t WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = t.relation);
CREATE TEMP TABLE written_03 AS SELECT * FROM written_03_now;
SELECT what, count(*) FROM written_03 GROUP BY what ORDER BY what;

ALTER EXTENSION crdt_reconcile UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'crdt_reconcile';

-- the 0.1 data: same bytes, same hashes, same merged values
SELECT count(*) AS rows,
       count(*) FILTER (WHERE b.v = vclock_send(w.v) AND b.g = gcounter_send(w.g) AND b.p = pncounter_send(w.p)
                          AND b.hv = crdt_hash(w.v) AND b.hg = crdt_hash(w.g) AND b.hp = crdt_hash(w.p)) AS identical
FROM written_by_01 w JOIN before b USING (id);
SELECT k, crdt_value(crdt_merge(g)) AS total, crdt_value(crdt_merge(p)) AS net FROM written_by_01 GROUP BY k ORDER BY k;

-- the 0.3 data: tracked rows, conflict records and settings, same bytes
SELECT w.what, count(*) AS rows, count(*) FILTER (WHERE w.bytes = n.bytes) AS identical
FROM written_03 w LEFT JOIN written_03_now n USING (what, k)
GROUP BY w.what ORDER BY w.what;
-- 0.4's settings filled in (the invariant's path from 0.3's trigger), the
-- dropped table's row gone, and the tables carry 0.4's triggers
SELECT relation, relation_name, invariant_search_path FROM crdt_reconcile.tracked ORDER BY relation_name;
SELECT tgrelid::regclass AS relation, tgname, tgnargs, tgenabled
FROM pg_trigger WHERE tgrelid IN ('inventory_03'::regclass, 'counts_03'::regclass) ORDER BY 1, 2;
-- and they merge under 0.4: an applied write from n2 that saw n1's
SET crdt.replica_id = 'n1';
SET session_replication_role = replica;
UPDATE inventory_03 SET stock = crdt_increment(stock, 7, 'n2'), clk = crdt_tick(clk, 'n2') WHERE id = 1;
RESET session_replication_role;
SELECT id, crdt_value(stock) AS stock, clk FROM inventory_03 WHERE id = 1;
RESET crdt.replica_id;

-- ---------------------------------------------------------------- upgraded = fresh
--
-- Every member of the extension and its definition, normalized (names for
-- OIDs, ACLs sorted), one row per object: computed on the upgraded
-- extension, then on a fresh install, and compared both ways.
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(string_agg(e, ' ' ORDER BY e), CASE WHEN a IS NULL THEN 'default' ELSE 'none' END)
	FROM (SELECT format('%s=%s%s/%s', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
	                    x.privilege_type, CASE WHEN x.is_grantable THEN '*' ELSE '' END, pg_get_userbyid(x.grantor)) AS e
	      FROM aclexplode(a) x) s $$;
CREATE TEMP VIEW extension_definition (kind, object, definition) AS
WITH ext AS (SELECT e.oid, e.extconfig, e.extcondition FROM pg_extension e WHERE e.extname = 'crdt_reconcile'),
member AS (SELECT d.classid, d.objid FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
           WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'),
-- the member relations and every relation of the schema crdt_reconcile (indexes, row types' tables)
rel AS (SELECT c.oid FROM pg_class c
        WHERE c.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_class'::regclass)
           OR c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = 'crdt_reconcile')),
func AS (SELECT p.oid FROM pg_proc p
         WHERE p.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_proc'::regclass)
            OR p.pronamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = 'crdt_reconcile')),
typ AS (SELECT t.oid FROM pg_type t
        WHERE t.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_type'::regclass)
           OR t.typelem IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_type'::regclass)
           OR t.typnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = 'crdt_reconcile')),
-- everything that may carry a comment or initial privileges
described AS (SELECT m.classid, m.objid FROM member m
              UNION SELECT 'pg_class'::regclass, r.oid FROM rel r
              UNION SELECT 'pg_type'::regclass, t.oid FROM typ t
              UNION SELECT 'pg_constraint'::regclass, k.oid FROM pg_constraint k
                    WHERE k.conrelid IN (SELECT oid FROM rel) OR k.contypid IN (SELECT oid FROM typ)
              UNION SELECT 'pg_trigger'::regclass, g.oid FROM pg_trigger g WHERE g.tgrelid IN (SELECT oid FROM rel)
              UNION SELECT 'pg_policy'::regclass, o.oid FROM pg_policy o WHERE o.polrelid IN (SELECT oid FROM rel))
SELECT 'member', pg_describe_object(m.classid, m.objid, 0), ''
FROM member m
UNION ALL
SELECT 'extension', e.extname,
       format('version %s, relocatable %s, schema %s, owner %s', e.extversion, e.extrelocatable,
              e.extnamespace::regnamespace, pg_get_userbyid(e.extowner))
FROM pg_extension e JOIN ext ON ext.oid = e.oid
UNION ALL
SELECT 'config dump', c.relname, 'condition ' || quote_literal(x.condition)
FROM ext, unnest(ext.extconfig, ext.extcondition) AS x(rel, condition) JOIN pg_class c ON c.oid = x.rel
UNION ALL
SELECT 'schema', n.nspname, format('owner %s, acl %s', pg_get_userbyid(n.nspowner), pg_temp.acl(n.nspacl))
FROM pg_namespace n WHERE n.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_namespace'::regclass)
UNION ALL
SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END,
       p.oid::regprocedure::text,
       concat_ws(E'\n',
         format('kind %s, language %s, volatility %s, parallel %s, strict %s, security definer %s, leakproof %s',
                p.prokind, l.lanname, p.provolatile, p.proparallel, p.proisstrict, p.prosecdef, p.proleakproof),
         format('returns set %s, cost %s, rows %s, support %s, owner %s, acl %s', p.proretset, p.procost,
                p.prorows, p.prosupport, pg_get_userbyid(p.proowner), pg_temp.acl(p.proacl)),
         format('arguments (%s), result %s, return type %s, all argument types %s, modes %s, names %s',
                pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prorettype::regtype,
                p.proallargtypes::regtype[], p.proargmodes, p.proargnames),
         format('config %s', p.proconfig), format('probin %s', p.probin), format('prosrc %s', p.prosrc),
         format('sql body %s', pg_get_function_sqlbody(p.oid)),
         (SELECT format('transition %s, final %s, combine %s, serialize %s, deserialize %s, '
                        'moving %s/%s/%s, final extra %s/%s, final modify %s/%s, sort %s, '
                        'state %s, space %s, moving state %s, space %s, initial %s/%s, kind %s, direct args %s',
                        a.aggtransfn::regprocedure, a.aggfinalfn::regprocedure, a.aggcombinefn::regprocedure,
                        a.aggserialfn::regprocedure, a.aggdeserialfn::regprocedure, a.aggmtransfn::regprocedure,
                        a.aggminvtransfn::regprocedure, a.aggmfinalfn::regprocedure, a.aggfinalextra,
                        a.aggmfinalextra, a.aggfinalmodify, a.aggmfinalmodify, a.aggsortop::regoperator,
                        a.aggtranstype::regtype, a.aggtransspace, a.aggmtranstype::regtype, a.aggmtransspace,
                        a.agginitval, a.aggminitval, a.aggkind, a.aggnumdirectargs)
          FROM pg_aggregate a WHERE a.aggfnoid = p.oid))
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid IN (SELECT oid FROM func)
UNION ALL
SELECT 'type', t.oid::regtype::text,
       format('type %s, length %s, by value %s, category %s, preferred %s, defined %s, delimiter %s, '
              'relation %s, element %s, array %s, subscript %s, input %s, output %s, receive %s, send %s, '
              'typmod in %s, typmod out %s, analyze %s, align %s, storage %s, not null %s, base %s, '
              'typmod %s, dimensions %s, collation %s, default %s, owner %s, acl %s',
              t.typtype, t.typlen, t.typbyval, t.typcategory, t.typispreferred, t.typisdefined, t.typdelim,
              t.typrelid::regclass, t.typelem::regtype, t.typarray::regtype, t.typsubscript::regprocedure,
              t.typinput::regprocedure, t.typoutput::regprocedure, t.typreceive::regprocedure,
              t.typsend::regprocedure, t.typmodin::regprocedure, t.typmodout::regprocedure,
              t.typanalyze::regprocedure, t.typalign, t.typstorage, t.typnotnull, t.typbasetype::regtype,
              t.typtypmod, t.typndims, t.typcollation::regcollation, t.typdefault, pg_get_userbyid(t.typowner),
              pg_temp.acl(t.typacl))
FROM pg_type t WHERE t.oid IN (SELECT oid FROM typ)
UNION ALL
SELECT 'operator', o.oid::regoperator::text,
       format('kind %s, function %s, result %s, commutator %s, negator %s, restrict %s, join %s, '
              'hashes %s, merges %s, owner %s',
              o.oprkind, o.oprcode::regprocedure, o.oprresult::regtype, o.oprcom::regoperator,
              o.oprnegate::regoperator, o.oprrest::regprocedure, o.oprjoin::regprocedure, o.oprcanhash,
              o.oprcanmerge, pg_get_userbyid(o.oprowner))
FROM pg_operator o WHERE o.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_operator'::regclass)
UNION ALL
SELECT 'operator family', pg_describe_object('pg_opfamily'::regclass, f.oid, 0),
       format('owner %s', pg_get_userbyid(f.opfowner))
FROM pg_opfamily f WHERE f.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_opfamily'::regclass)
UNION ALL
SELECT 'operator class', pg_describe_object('pg_opclass'::regclass, c.oid, 0),
       format('family %s, input %s, default %s, key %s, owner %s',
              pg_describe_object('pg_opfamily'::regclass, c.opcfamily, 0), c.opcintype::regtype, c.opcdefault,
              c.opckeytype::regtype, pg_get_userbyid(c.opcowner))
FROM pg_opclass c WHERE c.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_opclass'::regclass)
UNION ALL
SELECT 'operator family member', pg_describe_object('pg_amop'::regclass, a.oid, 0),
       format('operator %s, purpose %s, sort family %s', a.amopopr::regoperator, a.amoppurpose,
              CASE WHEN a.amopsortfamily <> 0 THEN pg_describe_object('pg_opfamily'::regclass, a.amopsortfamily, 0) END)
FROM pg_amop a WHERE a.amopfamily IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_opfamily'::regclass)
UNION ALL
SELECT 'operator family member', pg_describe_object('pg_amproc'::regclass, a.oid, 0),
       format('function %s', a.amproc::regprocedure)
FROM pg_amproc a WHERE a.amprocfamily IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_opfamily'::regclass)
UNION ALL
SELECT 'cast', format('%s -> %s', c.castsource::regtype, c.casttarget::regtype),
       format('function %s, context %s, method %s', c.castfunc::regprocedure, c.castcontext, c.castmethod)
FROM pg_cast c WHERE c.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_cast'::regclass)
UNION ALL
SELECT 'relation', c.oid::regclass::text,
       format('kind %s, persistence %s, access method %s, options %s, row security %s, forced %s, '
              'replica identity %s, partition %s, rules %s, triggers %s, toast %s, row type %s, of type %s, '
              'owner %s, acl %s',
              c.relkind, c.relpersistence, (SELECT a.amname FROM pg_am a WHERE a.oid = c.relam), c.reloptions,
              c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.relispartition, c.relhasrules,
              c.relhastriggers, c.reltoastrelid <> 0, c.reltype::regtype, c.reloftype::regtype,
              pg_get_userbyid(c.relowner), pg_temp.acl(c.relacl))
FROM pg_class c WHERE c.oid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'column', format('%s.%s (%s)', a.attrelid::regclass, a.attname, a.attnum),
       format('type %s, not null %s, default %s, identity %s, generated %s, collation %s, storage %s, '
              'compression %s, statistics %s, options %s, dropped %s, acl %s',
              format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
              a.attidentity, a.attgenerated, a.attcollation::regcollation, a.attstorage, a.attcompression,
              a.attstattarget, ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\_attver=%' ORDER BY o),
              a.attisdropped, pg_temp.acl(a.attacl))
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid IN (SELECT oid FROM rel) AND a.attnum > 0
UNION ALL
SELECT 'constraint', format('%s on %s', k.conname, coalesce(k.conrelid::regclass::text, k.contypid::regtype::text)),
       format('%s, type %s, deferrable %s, deferred %s, validated %s, local %s, inherited %s, no inherit %s',
              pg_get_constraintdef(k.oid), k.contype, k.condeferrable, k.condeferred, k.convalidated,
              k.conislocal, k.coninhcount, k.connoinherit)
FROM pg_constraint k WHERE k.conrelid IN (SELECT oid FROM rel) OR k.contypid IN (SELECT oid FROM typ)
UNION ALL
SELECT 'index', i.indexrelid::regclass::text,
       format('%s, unique %s, primary %s, exclusion %s, immediate %s, clustered %s, valid %s, replica identity %s',
              pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary, i.indisexclusion, i.indimmediate,
              i.indisclustered, i.indisvalid, i.indisreplident)
FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'policy', format('%s on %s', o.polname, o.polrelid::regclass),
       format('command %s, permissive %s, roles %s, using %s, with check %s', o.polcmd, o.polpermissive,
              ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END FROM unnest(o.polroles) r ORDER BY 1),
              pg_get_expr(o.polqual, o.polrelid), pg_get_expr(o.polwithcheck, o.polrelid))
FROM pg_policy o WHERE o.polrelid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'trigger', format('%s on %s', g.tgname, g.tgrelid::regclass),
       format('%s, enabled %s', pg_get_triggerdef(g.oid), g.tgenabled)
FROM pg_trigger g WHERE g.tgrelid IN (SELECT oid FROM rel) AND NOT g.tgisinternal
UNION ALL
SELECT 'view', c.oid::regclass::text, pg_get_viewdef(c.oid)
FROM pg_class c WHERE c.oid IN (SELECT oid FROM rel) AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'sequence', s.seqrelid::regclass::text,
       format('type %s, start %s, increment %s, max %s, min %s, cache %s, cycle %s, owned by %s',
              s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle,
              (SELECT format('%s.%s', d.refobjid::regclass, a.attname) FROM pg_depend d
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
               WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                 AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'))
FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'event trigger', t.evtname,
       format('event %s, tags %s, function %s, enabled %s, owner %s', t.evtevent, t.evttags,
              t.evtfoid::regprocedure, t.evtenabled, pg_get_userbyid(t.evtowner))
FROM pg_event_trigger t WHERE t.oid IN (SELECT m.objid FROM member m WHERE m.classid = 'pg_event_trigger'::regclass)
UNION ALL
-- what each depends on (the rules of views and the defaults of columns too)
SELECT 'dependency', pg_describe_object(d.classid, d.objid, d.objsubid),
       format('%s on %s', d.deptype, pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid))
FROM pg_depend d
WHERE d.deptype <> 'e'
  AND ((d.classid, d.objid) IN (SELECT classid, objid FROM described)
       OR (d.classid = 'pg_rewrite'::regclass AND d.objid IN (SELECT w.oid FROM pg_rewrite w WHERE w.ev_class IN (SELECT oid FROM rel)))
       OR (d.classid = 'pg_attrdef'::regclass AND d.objid IN (SELECT f.oid FROM pg_attrdef f WHERE f.adrelid IN (SELECT oid FROM rel))))
UNION ALL
SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
FROM pg_description d WHERE (d.classoid, d.objoid) IN (SELECT classid, objid FROM described)
UNION ALL
SELECT 'initial privileges', pg_describe_object(i.classoid, i.objoid, i.objsubid),
       format('%s %s', i.privtype, pg_temp.acl(i.initprivs))
FROM pg_init_privs i WHERE (i.classoid, i.objoid) IN (SELECT classid, objid FROM described);

CREATE TEMP TABLE upgraded AS SELECT * FROM extension_definition;
DROP VIEW written_03_now;
DROP TABLE written_by_01, inventory_03, counts_03;
DROP EXTENSION crdt_reconcile;

-- a fresh install runs crdt_reconcile--0.5.sql alone
CREATE EXTENSION crdt_reconcile;
SELECT extversion FROM pg_extension WHERE extname = 'crdt_reconcile';
CREATE TEMP TABLE fresh AS SELECT * FROM extension_definition;

-- per kind (the members themselves, then each kind of definition): rows on
-- each side, and each side's rows the other lacks (none may)
SELECT k.kind,
       (SELECT count(*) FROM upgraded u WHERE u.kind = k.kind) AS upgraded,
       (SELECT count(*) FROM fresh f WHERE f.kind = k.kind) AS fresh,
       (SELECT count(*) FROM (SELECT * FROM upgraded u WHERE u.kind = k.kind
                              EXCEPT ALL SELECT * FROM fresh f WHERE f.kind = k.kind) x) AS only_upgraded,
       (SELECT count(*) FROM (SELECT * FROM fresh f WHERE f.kind = k.kind
                              EXCEPT ALL SELECT * FROM upgraded u WHERE u.kind = k.kind) x) AS only_fresh
FROM (SELECT kind FROM upgraded UNION SELECT kind FROM fresh) k
ORDER BY k.kind = 'member' DESC, k.kind;
-- and those rows, to see what differs
SELECT 'only upgraded' AS side, * FROM (SELECT * FROM upgraded EXCEPT ALL SELECT * FROM fresh) x
UNION ALL
SELECT 'only fresh', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded) x
ORDER BY kind, object, side;
