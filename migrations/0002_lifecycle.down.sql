ALTER TABLE process
    DROP CONSTRAINT process_func_key,
    ADD CONSTRAINT process_func_key UNIQUE (service_instance_id, bk_func_name, bk_start_param_regex),
    DROP CONSTRAINT process_name_key,
    ADD CONSTRAINT process_name_key UNIQUE (service_instance_id, bk_process_name);

DROP INDEX service_instance_host_idx;
DROP INDEX service_instance_module_idx;
DROP INDEX service_instance_biz_idx;
