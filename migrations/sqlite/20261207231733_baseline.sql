-- Create "activities" table
CREATE TABLE `activities` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `category` text NOT NULL, `service_type` text NOT NULL, `status` text NOT NULL DEFAULT ('DRAFT'), `starts_at` datetime NOT NULL, `ends_at` datetime NOT NULL, `signup_opens_at` datetime NULL, `signup_closes_at` datetime NULL, `checkin_opens_minutes` integer NOT NULL DEFAULT (60), `published_at` datetime NULL, `counts_version` integer NOT NULL DEFAULT (0), `community_id` integer NOT NULL, `team_id` integer NULL, `venue_id` integer NULL, CONSTRAINT `activities_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `activities_teams_activities` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_venues_activities` FOREIGN KEY (`venue_id`) REFERENCES `venues` (`id`) ON DELETE SET NULL, CONSTRAINT `activity_time_order` CHECK (ends_at >= starts_at));
-- Create index "activity_community_id_starts_at" to table: "activities"
CREATE INDEX `activity_community_id_starts_at` ON `activities` (`community_id`, `starts_at`);
-- Create index "activity_community_id_status_starts_at" to table: "activities"
CREATE INDEX `activity_community_id_status_starts_at` ON `activities` (`community_id`, `status`, `starts_at`);
-- Create "audit_entries" table
CREATE TABLE `audit_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `actor_id` integer NULL, `action` text NOT NULL, `subject` text NOT NULL DEFAULT (''), `subject_id` integer NULL, `detail` text NOT NULL DEFAULT (''), `client_address` text NOT NULL DEFAULT (''), `at` datetime NOT NULL, `seq` integer NOT NULL DEFAULT (0), `hash` text NOT NULL DEFAULT (''), `community_id` integer NOT NULL, CONSTRAINT `audit_entries_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "audit_entries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("audit_entries", 4294967296);
-- Create index "auditentry_community_id_seq" to table: "audit_entries"
CREATE INDEX `auditentry_community_id_seq` ON `audit_entries` (`community_id`, `seq`);
-- Create index "auditentry_community_id_at" to table: "audit_entries"
CREATE INDEX `auditentry_community_id_at` ON `audit_entries` (`community_id`, `at`);
-- Create index "auditentry_community_id_action_at" to table: "audit_entries"
CREATE INDEX `auditentry_community_id_action_at` ON `audit_entries` (`community_id`, `action`, `at`);
-- Create "calendar_feeds" table
CREATE TABLE `calendar_feeds` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `token_hash` blob NOT NULL, `scope` text NOT NULL, `person_id` integer NOT NULL, `team_id` integer NULL, `venue_id` integer NULL, `created_at` datetime NOT NULL, `revoked_at` datetime NULL, `community_id` integer NOT NULL, CONSTRAINT `calendar_feeds_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "calendar_feeds" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("calendar_feeds", 103079215104);
-- Create index "calendar_feeds_token_hash_key" to table: "calendar_feeds"
CREATE UNIQUE INDEX `calendar_feeds_token_hash_key` ON `calendar_feeds` (`token_hash`);
-- Create index "calendarfeed_person_id_scope" to table: "calendar_feeds"
CREATE INDEX `calendarfeed_person_id_scope` ON `calendar_feeds` (`person_id`, `scope`);
-- Create "certificates" table
CREATE TABLE `certificates` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `code` text NOT NULL, `person_name` text NOT NULL, `minutes` integer NOT NULL, `record_count` integer NOT NULL, `star_level` integer NOT NULL, `issued_at` datetime NOT NULL, `issued_by_id` integer NULL, `community_id` integer NOT NULL, `person_id` integer NOT NULL, CONSTRAINT `certificates_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `certificates_persons_person` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION);
-- Set sequence for "certificates" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("certificates", 51539607552);
-- Create index "certificates_code_key" to table: "certificates"
CREATE UNIQUE INDEX `certificates_code_key` ON `certificates` (`code`);
-- Create "check_in_scans" table
CREATE TABLE `check_in_scans` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `actor_id` integer NULL, `nonce` text NOT NULL, `request_hash` blob NULL, `kind` text NOT NULL, `method` text NOT NULL, `activity_id` integer NULL, `status` text NOT NULL, `message` text NOT NULL DEFAULT (''), `scanned_at` datetime NOT NULL, `recorded_at` datetime NOT NULL, `community_id` integer NOT NULL, `kiosk_id` integer NULL, `registration_id` integer NULL, CONSTRAINT `check_in_scans_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `check_in_scans_kiosks_kiosk` FOREIGN KEY (`kiosk_id`) REFERENCES `kiosks` (`id`) ON DELETE SET NULL, CONSTRAINT `check_in_scans_registrations_registration` FOREIGN KEY (`registration_id`) REFERENCES `registrations` (`id`) ON DELETE SET NULL);
-- Set sequence for "check_in_scans" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("check_in_scans", 55834574848);
-- Create index "checkinscan_kiosk_id_nonce" to table: "check_in_scans"
CREATE UNIQUE INDEX `checkinscan_kiosk_id_nonce` ON `check_in_scans` (`kiosk_id`, `nonce`) WHERE kiosk_id IS NOT NULL;
-- Create index "checkinscan_actor_id_nonce" to table: "check_in_scans"
CREATE UNIQUE INDEX `checkinscan_actor_id_nonce` ON `check_in_scans` (`actor_id`, `nonce`) WHERE kiosk_id IS NULL AND actor_id IS NOT NULL;
-- Create index "checkinscan_activity_id_status" to table: "check_in_scans"
CREATE INDEX `checkinscan_activity_id_status` ON `check_in_scans` (`activity_id`, `status`);
-- Create index "checkinscan_registration_id" to table: "check_in_scans"
CREATE INDEX `checkinscan_registration_id` ON `check_in_scans` (`registration_id`);
-- Create "communities" table
CREATE TABLE `communities` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `town` text NOT NULL DEFAULT (''), `city` text NOT NULL DEFAULT (''), `households` integer NOT NULL DEFAULT (0), `resident_population` integer NOT NULL DEFAULT (0), `request_prefix` text NOT NULL DEFAULT (''), `area_km2` real NOT NULL DEFAULT (0), `star_thresholds` json NULL, `reminder_lead_minutes` json NULL, `quiet_hours_start` text NULL, `quiet_hours_end` text NULL);
-- Set sequence for "communities" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("communities", 8589934592);
-- Create "consents" table
CREATE TABLE `consents` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `purpose` text NOT NULL, `wording_version` text NOT NULL, `given_at` datetime NOT NULL, `withdrawn_at` datetime NULL, `recorded_by_id` integer NULL, `by_guardian` bool NOT NULL DEFAULT (false), `household_id` integer NULL, `community_id` integer NOT NULL, `person_id` integer NOT NULL, CONSTRAINT `consents_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `consents_persons_person` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION);
-- Set sequence for "consents" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("consents", 146028888064);
-- Create index "consent_person_id_purpose" to table: "consents"
CREATE INDEX `consent_person_id_purpose` ON `consents` (`person_id`, `purpose`);
-- Create index "consent_community_id_purpose" to table: "consents"
CREATE INDEX `consent_community_id_purpose` ON `consents` (`community_id`, `purpose`);
-- Create "home_visits" table
CREATE TABLE `home_visits` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `visited_at` datetime NOT NULL, `minutes` integer NOT NULL, `notes` text NOT NULL DEFAULT (''), `recorded_by_id` integer NULL, `idempotency_key` text NULL, `community_id` integer NOT NULL, `team_id` integer NULL, `household_id` integer NOT NULL, `request_id` integer NULL, CONSTRAINT `home_visits_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `home_visits_teams_team` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE SET NULL, CONSTRAINT `home_visits_households_visits` FOREIGN KEY (`household_id`) REFERENCES `households` (`id`) ON DELETE NO ACTION, CONSTRAINT `home_visits_requests_visits` FOREIGN KEY (`request_id`) REFERENCES `requests` (`id`) ON DELETE SET NULL);
-- Set sequence for "home_visits" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("home_visits", 81604378624);
-- Create index "homevisit_community_id_visited_at" to table: "home_visits"
CREATE INDEX `homevisit_community_id_visited_at` ON `home_visits` (`community_id`, `visited_at`);
-- Create index "homevisit_household_id_visited_at" to table: "home_visits"
CREATE INDEX `homevisit_household_id_visited_at` ON `home_visits` (`household_id`, `visited_at`);
-- Create index "homevisit_recorded_by_id_idempotency_key" to table: "home_visits"
CREATE UNIQUE INDEX `homevisit_recorded_by_id_idempotency_key` ON `home_visits` (`recorded_by_id`, `idempotency_key`);
-- Create "households" table
CREATE TABLE `households` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `address` text NOT NULL, `head_name` text NOT NULL DEFAULT (''), `phone` text NOT NULL DEFAULT (''), `size` integer NOT NULL DEFAULT (1), `care_tags` json NULL, `community_id` integer NOT NULL, CONSTRAINT `households_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "households" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("households", 85899345920);
-- Create index "household_community_id_address" to table: "households"
CREATE UNIQUE INDEX `household_community_id_address` ON `households` (`community_id`, `address`);
-- Create "idempotency_keys" table
CREATE TABLE `idempotency_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `person_id` integer NOT NULL, `key` text NOT NULL, `operation` text NOT NULL, `request_hash` blob NOT NULL, `response` blob NULL, `created_at` datetime NOT NULL);
-- Set sequence for "idempotency_keys" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("idempotency_keys", 12884901888);
-- Create index "idempotencykey_person_id_key" to table: "idempotency_keys"
CREATE UNIQUE INDEX `idempotencykey_person_id_key` ON `idempotency_keys` (`person_id`, `key`);
-- Create index "idempotencykey_created_at" to table: "idempotency_keys"
CREATE INDEX `idempotencykey_created_at` ON `idempotency_keys` (`created_at`);
-- Create "jobs" table
CREATE TABLE `jobs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `kind` text NOT NULL, `payload` text NOT NULL DEFAULT (''), `unique_key` text NULL, `state` text NOT NULL DEFAULT ('AVAILABLE'), `run_at` datetime NOT NULL, `attempts` integer NOT NULL DEFAULT (0), `max_attempts` integer NOT NULL DEFAULT (10), `period_seconds` integer NOT NULL DEFAULT (0), `last_error` text NULL, `lease` text NULL, `lease_until` datetime NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL);
-- Set sequence for "jobs" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("jobs", 124554051584);
-- Create index "jobs_unique_key_key" to table: "jobs"
CREATE UNIQUE INDEX `jobs_unique_key_key` ON `jobs` (`unique_key`);
-- Create index "job_state_run_at" to table: "jobs"
CREATE INDEX `job_state_run_at` ON `jobs` (`state`, `run_at`);
-- Create "kiosks" table
CREATE TABLE `kiosks` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `token_hash` blob NOT NULL, `created_by_id` integer NULL, `revoked_at` datetime NULL, `last_seen_at` datetime NULL, `community_id` integer NOT NULL, `venue_id` integer NOT NULL, CONSTRAINT `kiosks_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `kiosks_venues_venue` FOREIGN KEY (`venue_id`) REFERENCES `venues` (`id`) ON DELETE NO ACTION);
-- Set sequence for "kiosks" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("kiosks", 60129542144);
-- Create index "kiosks_token_hash_key" to table: "kiosks"
CREATE UNIQUE INDEX `kiosks_token_hash_key` ON `kiosks` (`token_hash`);
-- Create index "kiosk_community_id_venue_id" to table: "kiosks"
CREATE INDEX `kiosk_community_id_venue_id` ON `kiosks` (`community_id`, `venue_id`);
-- Create "kiosk_pairing_codes" table
CREATE TABLE `kiosk_pairing_codes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `code_hash` blob NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `created_by_id` integer NULL, `created_at` datetime NOT NULL, `kiosk_id` integer NOT NULL, CONSTRAINT `kiosk_pairing_codes_kiosks_kiosk` FOREIGN KEY (`kiosk_id`) REFERENCES `kiosks` (`id`) ON DELETE NO ACTION);
-- Set sequence for "kiosk_pairing_codes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("kiosk_pairing_codes", 98784247808);
-- Create index "kiosk_pairing_codes_code_hash_key" to table: "kiosk_pairing_codes"
CREATE UNIQUE INDEX `kiosk_pairing_codes_code_hash_key` ON `kiosk_pairing_codes` (`code_hash`);
-- Create index "kioskpairingcode_expires_at" to table: "kiosk_pairing_codes"
CREATE INDEX `kioskpairingcode_expires_at` ON `kiosk_pairing_codes` (`expires_at`);
-- Create index "kioskpairingcode_kiosk_id" to table: "kiosk_pairing_codes"
CREATE INDEX `kioskpairingcode_kiosk_id` ON `kiosk_pairing_codes` (`kiosk_id`);
-- Create "notifications" table
CREATE TABLE `notifications` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `kind` text NOT NULL, `title` text NOT NULL, `body` text NOT NULL, `created_at` datetime NOT NULL, `read_at` datetime NULL, `source` text NOT NULL, `community_id` integer NOT NULL, `person_id` integer NOT NULL, `activity_id` integer NULL, `registration_id` integer NULL, `request_id` integer NULL, CONSTRAINT `notifications_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `notifications_persons_person` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `notifications_activities_activity` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE SET NULL, CONSTRAINT `notifications_registrations_registration` FOREIGN KEY (`registration_id`) REFERENCES `registrations` (`id`) ON DELETE SET NULL, CONSTRAINT `notifications_requests_request` FOREIGN KEY (`request_id`) REFERENCES `requests` (`id`) ON DELETE SET NULL);
-- Set sequence for "notifications" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("notifications", 128849018880);
-- Create index "notifications_source_key" to table: "notifications"
CREATE UNIQUE INDEX `notifications_source_key` ON `notifications` (`source`);
-- Create index "notification_person_id_created_at" to table: "notifications"
CREATE INDEX `notification_person_id_created_at` ON `notifications` (`person_id`, `created_at`);
-- Create index "notification_person_id_read_at" to table: "notifications"
CREATE INDEX `notification_person_id_read_at` ON `notifications` (`person_id`, `read_at`);
-- Create "notification_deliveries" table
CREATE TABLE `notification_deliveries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `notification_id` integer NOT NULL, `person_id` integer NOT NULL, `channel` text NOT NULL, `kind` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `attempts` integer NOT NULL DEFAULT (0), `last_error` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `last_attempt_at` datetime NULL, `sent_at` datetime NULL, `community_id` integer NOT NULL, CONSTRAINT `notification_deliveries_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "notification_deliveries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("notification_deliveries", 107374182400);
-- Create index "notificationdelivery_notification_id_channel" to table: "notification_deliveries"
CREATE UNIQUE INDEX `notificationdelivery_notification_id_channel` ON `notification_deliveries` (`notification_id`, `channel`);
-- Create index "notificationdelivery_community_id_status_created_at" to table: "notification_deliveries"
CREATE INDEX `notificationdelivery_community_id_status_created_at` ON `notification_deliveries` (`community_id`, `status`, `created_at`);
-- Create "notification_preferences" table
CREATE TABLE `notification_preferences` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `channels` json NULL, `muted_kinds` json NULL, `reminder_lead_minutes` json NULL, `quiet_hours_start` text NULL, `quiet_hours_end` text NULL, `updated_at` datetime NOT NULL, `community_id` integer NOT NULL, `person_id` integer NOT NULL, CONSTRAINT `notification_preferences_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `notification_preferences_persons_person` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION);
-- Set sequence for "notification_preferences" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("notification_preferences", 133143986176);
-- Create "persisted_queries" table
CREATE TABLE `persisted_queries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `hash` text NOT NULL, `document` text NOT NULL, `created_at` datetime NOT NULL, `last_used_at` datetime NOT NULL);
-- Set sequence for "persisted_queries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("persisted_queries", 73014444032);
-- Create index "persisted_queries_hash_key" to table: "persisted_queries"
CREATE UNIQUE INDEX `persisted_queries_hash_key` ON `persisted_queries` (`hash`);
-- Create index "persistedquery_last_used_at" to table: "persisted_queries"
CREATE INDEX `persistedquery_last_used_at` ON `persisted_queries` (`last_used_at`);
-- Create "persons" table
CREATE TABLE `persons` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `display_name` text NOT NULL, `phone` text NOT NULL, `password_hash` text NOT NULL, `roles` json NOT NULL, `birth_year` integer NULL, `deleted_at` datetime NULL, `community_id` integer NOT NULL, CONSTRAINT `persons_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "persons" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("persons", 17179869184);
-- Create index "person_community_id_display_name" to table: "persons"
CREATE INDEX `person_community_id_display_name` ON `persons` (`community_id`, `display_name`);
-- Create index "person_community_id_phone" to table: "persons"
CREATE UNIQUE INDEX `person_community_id_phone` ON `persons` (`community_id`, `phone`);
-- Create index "person_phone" to table: "persons"
CREATE UNIQUE INDEX `person_phone` ON `persons` (`phone`) WHERE password_hash <> '';
-- Create "phone_codes" table
CREATE TABLE `phone_codes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `phone` text NOT NULL, `code_hash` blob NOT NULL, `expires_at` datetime NOT NULL, `attempts` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL);
-- Set sequence for "phone_codes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("phone_codes", 68719476736);
-- Create index "phone_codes_phone_key" to table: "phone_codes"
CREATE UNIQUE INDEX `phone_codes_phone_key` ON `phone_codes` (`phone`);
-- Create index "phonecode_expires_at" to table: "phone_codes"
CREATE INDEX `phonecode_expires_at` ON `phone_codes` (`expires_at`);
-- Create "registrations" table
CREATE TABLE `registrations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL, `seats` integer NOT NULL DEFAULT (1), `queue_seq` integer NOT NULL DEFAULT (0), `consent_sensitive_at` datetime NULL, `check_in_code` text NOT NULL, `checked_in_at` datetime NULL, `checked_out_at` datetime NULL, `cancelled_at` datetime NULL, `cancel_reason` text NULL, `person_id` integer NOT NULL, `community_id` integer NOT NULL, `slot_id` integer NOT NULL, `activity_id` integer NOT NULL, CONSTRAINT `registrations_persons_registrations` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `registrations_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `registrations_slots_slot` FOREIGN KEY (`slot_id`) REFERENCES `slots` (`id`) ON DELETE NO ACTION, CONSTRAINT `registrations_activities_activity` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "registrations" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("registrations", 21474836480);
-- Create index "registrations_check_in_code_key" to table: "registrations"
CREATE UNIQUE INDEX `registrations_check_in_code_key` ON `registrations` (`check_in_code`);
-- Create index "registration_slot_id_person_id" to table: "registrations"
CREATE UNIQUE INDEX `registration_slot_id_person_id` ON `registrations` (`slot_id`, `person_id`) WHERE status IN ('CONFIRMED','WAITLISTED','PENDING_APPROVAL','CHECKED_IN','CHECKED_OUT');
-- Create index "registration_slot_id_status_queue_seq" to table: "registrations"
CREATE INDEX `registration_slot_id_status_queue_seq` ON `registrations` (`slot_id`, `status`, `queue_seq`);
-- Create index "registration_person_id_created_at" to table: "registrations"
CREATE INDEX `registration_person_id_created_at` ON `registrations` (`person_id`, `created_at`);
-- Create index "registration_activity_id_status" to table: "registrations"
CREATE INDEX `registration_activity_id_status` ON `registrations` (`activity_id`, `status`);
-- Create "requests" table
CREATE TABLE `requests` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` text NOT NULL, `year` integer NOT NULL, `seq` integer NOT NULL, `kind` text NOT NULL, `channel` text NOT NULL, `status` text NOT NULL DEFAULT ('SUBMITTED'), `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `created_by_id` integer NULL, `outcome` text NULL, `resolution` text NULL, `satisfaction` integer NULL, `confirmed_by_staff` bool NOT NULL DEFAULT (false), `accepted_at` datetime NULL, `resolved_at` datetime NULL, `closed_at` datetime NULL, `due_at` datetime NULL, `idempotency_key` text NULL, `version` integer NOT NULL DEFAULT (0), `household_id` integer NULL, `community_id` integer NOT NULL, `submitter_id` integer NULL, `team_id` integer NULL, `assignee_id` integer NULL, CONSTRAINT `requests_households_requests` FOREIGN KEY (`household_id`) REFERENCES `households` (`id`) ON DELETE SET NULL, CONSTRAINT `requests_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `requests_persons_submitter` FOREIGN KEY (`submitter_id`) REFERENCES `persons` (`id`) ON DELETE SET NULL, CONSTRAINT `requests_teams_team` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE SET NULL, CONSTRAINT `requests_persons_assignee` FOREIGN KEY (`assignee_id`) REFERENCES `persons` (`id`) ON DELETE SET NULL);
-- Set sequence for "requests" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("requests", 90194313216);
-- Create index "request_community_id_number" to table: "requests"
CREATE UNIQUE INDEX `request_community_id_number` ON `requests` (`community_id`, `number`);
-- Create index "request_community_id_year_seq" to table: "requests"
CREATE UNIQUE INDEX `request_community_id_year_seq` ON `requests` (`community_id`, `year`, `seq`);
-- Create index "request_community_id_status_due_at" to table: "requests"
CREATE INDEX `request_community_id_status_due_at` ON `requests` (`community_id`, `status`, `due_at`);
-- Create index "request_community_id_created_at" to table: "requests"
CREATE INDEX `request_community_id_created_at` ON `requests` (`community_id`, `created_at`);
-- Create index "request_community_id_resolved_at" to table: "requests"
CREATE INDEX `request_community_id_resolved_at` ON `requests` (`community_id`, `resolved_at`);
-- Create index "request_community_id_closed_at" to table: "requests"
CREATE INDEX `request_community_id_closed_at` ON `requests` (`community_id`, `closed_at`);
-- Create index "request_submitter_id_created_at" to table: "requests"
CREATE INDEX `request_submitter_id_created_at` ON `requests` (`submitter_id`, `created_at`);
-- Create index "request_created_by_id_idempotency_key" to table: "requests"
CREATE UNIQUE INDEX `request_created_by_id_idempotency_key` ON `requests` (`created_by_id`, `idempotency_key`);
-- Create "request_events" table
CREATE TABLE `request_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `at` datetime NOT NULL, `action` text NOT NULL, `status` text NOT NULL, `note` text NOT NULL DEFAULT (''), `home_visit_id` integer NULL, `request_id` integer NOT NULL, `community_id` integer NOT NULL, `actor_id` integer NULL, CONSTRAINT `request_events_requests_events` FOREIGN KEY (`request_id`) REFERENCES `requests` (`id`) ON DELETE NO ACTION, CONSTRAINT `request_events_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `request_events_persons_actor` FOREIGN KEY (`actor_id`) REFERENCES `persons` (`id`) ON DELETE SET NULL);
-- Set sequence for "request_events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("request_events", 94489280512);
-- Create index "requestevent_request_id_at" to table: "request_events"
CREATE INDEX `requestevent_request_id_at` ON `request_events` (`request_id`, `at`);
-- Create "retention_policies" table
CREATE TABLE `retention_policies` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scan_days` integer NULL, `request_text_days` integer NULL, `care_tag_days` integer NULL, `notification_days` integer NULL, `read_log_days` integer NULL, `community_id` integer NOT NULL, CONSTRAINT `retention_policies_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "retention_policies" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("retention_policies", 137438953472);
-- Create index "retentionpolicy_community_id" to table: "retention_policies"
CREATE UNIQUE INDEX `retentionpolicy_community_id` ON `retention_policies` (`community_id`);
-- Create "secrets" table
CREATE TABLE `secrets` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `value` blob NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "secrets" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("secrets", 77309411328);
-- Create index "secrets_name_key" to table: "secrets"
CREATE UNIQUE INDEX `secrets_name_key` ON `secrets` (`name`);
-- Create "sensitive_reads" table
CREATE TABLE `sensitive_reads` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `actor_id` integer NOT NULL, `kind` text NOT NULL, `subject_type` text NOT NULL, `subject_id` integer NOT NULL, `path` text NOT NULL DEFAULT (''), `client_address` text NOT NULL DEFAULT (''), `at` datetime NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `sensitive_reads_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "sensitive_reads" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("sensitive_reads", 141733920768);
-- Create index "sensitiveread_community_id_at" to table: "sensitive_reads"
CREATE INDEX `sensitiveread_community_id_at` ON `sensitive_reads` (`community_id`, `at`);
-- Create index "sensitiveread_subject_id_at" to table: "sensitive_reads"
CREATE INDEX `sensitiveread_subject_id_at` ON `sensitive_reads` (`subject_id`, `at`);
-- Create index "sensitiveread_at" to table: "sensitive_reads"
CREATE INDEX `sensitiveread_at` ON `sensitive_reads` (`at`);
-- Create "service_records" table
CREATE TABLE `service_records` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `registration_id` integer NULL, `home_visit_id` integer NULL, `activity_name` text NOT NULL, `service_date` text NOT NULL, `place` text NOT NULL DEFAULT (''), `service_content` text NOT NULL DEFAULT (''), `started_at` datetime NOT NULL, `ended_at` datetime NOT NULL, `minutes` integer NOT NULL, `organizing_team` text NOT NULL DEFAULT (''), `person_in_charge` text NOT NULL DEFAULT (''), `recorded_by` text NOT NULL DEFAULT (''), `flagged_for_review` bool NOT NULL DEFAULT (false), `flag_reason` text NOT NULL DEFAULT (''), `corrected_at` datetime NULL, `corrected_by_id` integer NULL, `correction_reason` text NOT NULL DEFAULT (''), `community_id` integer NOT NULL, `person_id` integer NOT NULL, `activity_id` integer NULL, CONSTRAINT `service_records_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `service_records_persons_person` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `service_records_activities_activity` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE SET NULL, CONSTRAINT `service_record_time_order` CHECK (ended_at >= started_at));
-- Set sequence for "service_records" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("service_records", 64424509440);
-- Create index "service_records_registration_id_key" to table: "service_records"
CREATE UNIQUE INDEX `service_records_registration_id_key` ON `service_records` (`registration_id`);
-- Create index "servicerecord_person_id_started_at" to table: "service_records"
CREATE INDEX `servicerecord_person_id_started_at` ON `service_records` (`person_id`, `started_at`);
-- Create index "servicerecord_community_id_flagged_for_review" to table: "service_records"
CREATE INDEX `servicerecord_community_id_flagged_for_review` ON `service_records` (`community_id`, `flagged_for_review`);
-- Create index "servicerecord_home_visit_id" to table: "service_records"
CREATE INDEX `servicerecord_home_visit_id` ON `service_records` (`home_visit_id`);
-- Create index "servicerecord_community_id_started_at" to table: "service_records"
CREATE INDEX `servicerecord_community_id_started_at` ON `service_records` (`community_id`, `started_at`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `token_hash` blob NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `idle_expires_at` datetime NULL, `community_id` integer NOT NULL, `person_id` integer NOT NULL, CONSTRAINT `sessions_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `sessions_persons_person` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION);
-- Set sequence for "sessions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("sessions", 25769803776);
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- Create "slots" table
CREATE TABLE `slots` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `kind` text NOT NULL DEFAULT ('ATTENDEE'), `capacity` integer NOT NULL, `taken` integer NOT NULL DEFAULT (0), `waitlisted` integer NOT NULL DEFAULT (0), `pending` integer NOT NULL DEFAULT (0), `checked_in` integer NOT NULL DEFAULT (0), `starts_at` datetime NULL, `ends_at` datetime NULL, `max_seats_per_signup` integer NOT NULL DEFAULT (1), `requires_approval` bool NOT NULL DEFAULT (false), `waitlist_enabled` bool NOT NULL DEFAULT (true), `activity_id` integer NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `slots_activities_slots` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE NO ACTION, CONSTRAINT `slots_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `slot_capacity_nonneg` CHECK (capacity >= 0), CONSTRAINT `slot_checked_in_nonneg` CHECK (checked_in >= 0), CONSTRAINT `slot_pending_nonneg` CHECK (pending >= 0), CONSTRAINT `slot_taken_range` CHECK (taken >= 0 AND taken <= capacity), CONSTRAINT `slot_waitlisted_nonneg` CHECK (waitlisted >= 0));
-- Set sequence for "slots" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("slots", 30064771072);
-- Create index "slot_activity_id" to table: "slots"
CREATE INDEX `slot_activity_id` ON `slots` (`activity_id`);
-- Create "teams" table
CREATE TABLE `teams` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `community_id` integer NOT NULL, CONSTRAINT `teams_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "teams" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("teams", 34359738368);
-- Create index "team_community_id_name" to table: "teams"
CREATE UNIQUE INDEX `team_community_id_name` ON `teams` (`community_id`, `name`);
-- Create "team_memberships" table
CREATE TABLE `team_memberships` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `role` text NOT NULL DEFAULT ('MEMBER'), `person_id` integer NOT NULL, `team_id` integer NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `team_memberships_persons_memberships` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `team_memberships_teams_memberships` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE NO ACTION, CONSTRAINT `team_memberships_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "team_memberships" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("team_memberships", 38654705664);
-- Create index "teammembership_team_id_person_id" to table: "team_memberships"
CREATE UNIQUE INDEX `teammembership_team_id_person_id` ON `team_memberships` (`team_id`, `person_id`);
-- Create index "teammembership_person_id" to table: "team_memberships"
CREATE INDEX `teammembership_person_id` ON `team_memberships` (`person_id`);
-- Create "venues" table
CREATE TABLE `venues` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `address` text NOT NULL DEFAULT (''), `capacity` integer NOT NULL DEFAULT (0), `community_id` integer NOT NULL, CONSTRAINT `venues_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "venues" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("venues", 42949672960);
-- Create index "venue_community_id_name" to table: "venues"
CREATE UNIQUE INDEX `venue_community_id_name` ON `venues` (`community_id`, `name`);
-- Create "volunteer_profiles" table
CREATE TABLE `volunteer_profiles` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `skills` json NULL, `registered_at` datetime NOT NULL, `person_id` integer NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `volunteer_profiles_persons_volunteer_profile` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `volunteer_profiles_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "volunteer_profiles" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("volunteer_profiles", 47244640256);
-- Create index "volunteer_profiles_person_id_key" to table: "volunteer_profiles"
CREATE UNIQUE INDEX `volunteer_profiles_person_id_key` ON `volunteer_profiles` (`person_id`);
-- Create "webhooks" table
CREATE TABLE `webhooks` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `url` text NOT NULL, `secret` text NOT NULL, `events` json NOT NULL, `description` text NOT NULL DEFAULT (''), `created_by_id` integer NULL, `deleted_at` datetime NULL, `community_id` integer NOT NULL, CONSTRAINT `webhooks_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "webhooks" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("webhooks", 111669149696);
-- Create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `uuid` text NOT NULL, `event` text NOT NULL, `payload` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `attempts` integer NOT NULL DEFAULT (0), `last_error` text NOT NULL DEFAULT (''), `response_code` integer NULL, `created_at` datetime NOT NULL, `last_attempt_at` datetime NULL, `delivered_at` datetime NULL, `webhook_id` integer NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `webhook_deliveries_webhooks_deliveries` FOREIGN KEY (`webhook_id`) REFERENCES `webhooks` (`id`) ON DELETE NO ACTION, CONSTRAINT `webhook_deliveries_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "webhook_deliveries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("webhook_deliveries", 115964116992);
-- Create index "webhook_deliveries_uuid_key" to table: "webhook_deliveries"
CREATE UNIQUE INDEX `webhook_deliveries_uuid_key` ON `webhook_deliveries` (`uuid`);
-- Create index "webhookdelivery_webhook_id_created_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_webhook_id_created_at` ON `webhook_deliveries` (`webhook_id`, `created_at`);
-- Create "wechat_bindings" table
CREATE TABLE `wechat_bindings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `person_id` integer NOT NULL, `openid` text NOT NULL, `updated_at` datetime NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `wechat_bindings_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "wechat_bindings" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("wechat_bindings", 120259084288);
-- Create index "wechat_bindings_person_id_key" to table: "wechat_bindings"
CREATE UNIQUE INDEX `wechat_bindings_person_id_key` ON `wechat_bindings` (`person_id`);
-- Create "home_visit_volunteers" table
CREATE TABLE `home_visit_volunteers` (`home_visit_id` integer NOT NULL, `person_id` integer NOT NULL, PRIMARY KEY (`home_visit_id`, `person_id`), CONSTRAINT `home_visit_volunteers_home_visit_id` FOREIGN KEY (`home_visit_id`) REFERENCES `home_visits` (`id`) ON DELETE CASCADE, CONSTRAINT `home_visit_volunteers_person_id` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE CASCADE);
