-- b: what procsvc sends PostgreSQL for one request of this workload,
-- captured and rewritten by scripts/bench.sh (BENCH_UPDATE=1 make bench);
-- make bench fails when procsvc's statements no longer match this file.
BEGIN;
SELECT bk_biz_id, service_template_id, default_kind FROM module WHERE bk_supplier_account = :s1p1 AND bk_module_id = :s1p2;
SELECT h.bk_host_id, h.bk_host_innerip, h.bk_host_outerip,        h.bk_host_innerip_v6, h.bk_host_outerip_v6 FROM module_host mh JOIN host h USING (bk_supplier_account, bk_host_id) WHERE mh.bk_supplier_account = :s2p1 AND mh.bk_module_id = :s2p2   AND mh.bk_host_id = ANY (:s2p3::bigint[]);
SELECT nextval(pg_get_serial_sequence(:s3p1, :s3p2)) FROM generate_series(1, :s3p3::int);
INSERT INTO service_instance (bk_supplier_account, creator, modifier,     bk_biz_id, bk_module_id, service_template_id, id, bk_host_id, name) SELECT :s4p1, :s4p2, :s4p2, :s4p3, :s4p4, :s4p5, u.id, u.host, u.name FROM unnest(:s4p6::bigint[], :s4p7::bigint[], :s4p8::text[]) AS u(id, host, name);
SELECT nextval(pg_get_serial_sequence(:s5p1, :s5p2)) FROM generate_series(1, :s5p3::int);
INSERT INTO process (bk_supplier_account, creator, modifier, bk_process_id, bk_biz_id, service_instance_id, process_template_id, bk_host_id, bind_info_set, "bk_process_name", "bk_func_name", "bk_func_id", "bk_start_param_regex", "description", "user", "work_path", "pid_file", "start_cmd", "stop_cmd", "restart_cmd", "face_stop_cmd", "reload_cmd", "proc_num", "priority", "timeout", "auto_time_gap", "bk_start_check_secs", "auto_start") SELECT :s6p1, :s6p2, :s6p2, u.* FROM unnest(:s6p3::bigint[], :s6p4::bigint[], :s6p5::bigint[], :s6p6::bigint[], :s6p7::bigint[], :s6p8::boolean[], :s6p9::text[], :s6p10::text[], :s6p11::text[], :s6p12::text[], :s6p13::text[], :s6p14::text[], :s6p15::text[], :s6p16::text[], :s6p17::text[], :s6p18::text[], :s6p19::text[], :s6p20::text[], :s6p21::text[], :s6p22::bigint[], :s6p23::bigint[], :s6p24::bigint[], :s6p25::bigint[], :s6p26::bigint[], :s6p27::boolean[]) AS u;
INSERT INTO bind_info (bk_supplier_account, bk_process_id, position, "enable", "ip", "port", "protocol", "template_row_id") SELECT :s7p1, u.* FROM unnest(:s7p2::bigint[], :s7p3::integer[], :s7p4::boolean[], :s7p5::text[], :s7p6::text[], :s7p7::text[], :s7p8::bigint[]) AS u;
COMMIT;
