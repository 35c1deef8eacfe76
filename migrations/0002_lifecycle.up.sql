-- Lifecycle APIs (api-contract.md §11).
--
-- §11.8: the lists filter a tenant's business, module or hosts and page in
-- id order; the writes find rows by id (primary keys) and the processes of
-- an instance (process_name_key leads with service_instance_id). These
-- serve the service-instance filters that had no index.
CREATE INDEX service_instance_biz_idx
    ON service_instance (bk_supplier_account, bk_biz_id, id);
CREATE INDEX service_instance_module_idx
    ON service_instance (bk_supplier_account, bk_module_id, id);
CREATE INDEX service_instance_host_idx
    ON service_instance (bk_supplier_account, bk_host_id);

-- §11.5: uniqueness is judged on the state after a whole update, so that
-- two processes can swap names in one request. DEFERRABLE moves the check
-- of a statement to its end (INITIALLY IMMEDIATE: every statement still
-- answers for itself, so inserts fail where they did), and a concurrent
-- writer still waits for the other's commit before it is judged.
ALTER TABLE process
    DROP CONSTRAINT process_name_key,
    ADD CONSTRAINT process_name_key UNIQUE (service_instance_id, bk_process_name)
        DEFERRABLE INITIALLY IMMEDIATE,
    DROP CONSTRAINT process_func_key,
    ADD CONSTRAINT process_func_key UNIQUE (service_instance_id, bk_func_name, bk_start_param_regex)
        DEFERRABLE INITIALLY IMMEDIATE;
