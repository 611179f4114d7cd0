-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_activities" table
CREATE TABLE `new_activities` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `category` text NOT NULL, `service_type` text NOT NULL, `status` text NOT NULL DEFAULT ('DRAFT'), `starts_at` datetime NOT NULL, `ends_at` datetime NOT NULL, `signup_opens_at` datetime NULL, `signup_closes_at` datetime NULL, `checkin_opens_minutes` integer NOT NULL DEFAULT (60), `published_at` datetime NULL, `counts_version` integer NOT NULL DEFAULT (0), `occurrence_at` datetime NULL, `community_id` integer NOT NULL, `series_id` integer NULL, `team_id` integer NULL, `venue_id` integer NULL, CONSTRAINT `activities_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `activities_series_occurrences` FOREIGN KEY (`series_id`) REFERENCES `series` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_teams_activities` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_venues_activities` FOREIGN KEY (`venue_id`) REFERENCES `venues` (`id`) ON DELETE SET NULL, CONSTRAINT `activity_time_order` CHECK (ends_at >= starts_at));
-- Copy rows from old table "activities" to new temporary table "new_activities"
INSERT INTO `new_activities` (`id`, `created_at`, `updated_at`, `title`, `description`, `category`, `service_type`, `status`, `starts_at`, `ends_at`, `signup_opens_at`, `signup_closes_at`, `checkin_opens_minutes`, `published_at`, `counts_version`, `community_id`, `team_id`, `venue_id`) SELECT `id`, `created_at`, `updated_at`, `title`, `description`, `category`, `service_type`, `status`, `starts_at`, `ends_at`, `signup_opens_at`, `signup_closes_at`, `checkin_opens_minutes`, `published_at`, `counts_version`, `community_id`, `team_id`, `venue_id` FROM `activities`;
-- Drop "activities" table after copying rows
DROP TABLE `activities`;
-- Rename temporary table "new_activities" to "activities"
ALTER TABLE `new_activities` RENAME TO `activities`;
-- Create index "activity_community_id_starts_at" to table: "activities"
CREATE INDEX `activity_community_id_starts_at` ON `activities` (`community_id`, `starts_at`);
-- Create index "activity_community_id_status_starts_at" to table: "activities"
CREATE INDEX `activity_community_id_status_starts_at` ON `activities` (`community_id`, `status`, `starts_at`);
-- Create index "activity_series_id_occurrence_at" to table: "activities"
CREATE UNIQUE INDEX `activity_series_id_occurrence_at` ON `activities` (`series_id`, `occurrence_at`);
-- Create "new_communities" table
CREATE TABLE `new_communities` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `town` text NOT NULL DEFAULT (''), `city` text NOT NULL DEFAULT (''), `households` integer NOT NULL DEFAULT (0), `resident_population` integer NOT NULL DEFAULT (0), `request_prefix` text NOT NULL DEFAULT (''), `area_km2` real NOT NULL DEFAULT (0), `star_thresholds` json NULL, `no_show_window_months` integer NOT NULL DEFAULT (6), `reminder_lead_minutes` json NULL, `quiet_hours_start` text NULL, `quiet_hours_end` text NULL, `series_window_weeks` integer NOT NULL DEFAULT (8));
-- Set sequence for "new_communities" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_communities", 8589934592);
-- Copy rows from old table "communities" to new temporary table "new_communities"
INSERT INTO `new_communities` (`id`, `created_at`, `updated_at`, `name`, `town`, `city`, `households`, `resident_population`, `request_prefix`, `area_km2`, `star_thresholds`, `reminder_lead_minutes`, `quiet_hours_start`, `quiet_hours_end`) SELECT `id`, `created_at`, `updated_at`, `name`, `town`, `city`, `households`, `resident_population`, `request_prefix`, `area_km2`, `star_thresholds`, `reminder_lead_minutes`, `quiet_hours_start`, `quiet_hours_end` FROM `communities`;
-- Drop "communities" table after copying rows
DROP TABLE `communities`;
-- Rename temporary table "new_communities" to "communities"
ALTER TABLE `new_communities` RENAME TO `communities`;
-- Create "new_home_visits" table
CREATE TABLE `new_home_visits` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `visited_at` datetime NOT NULL, `minutes` integer NOT NULL, `notes` text NOT NULL DEFAULT (''), `recorded_by_id` integer NULL, `community_id` integer NOT NULL, `team_id` integer NULL, `household_id` integer NOT NULL, `request_id` integer NULL, CONSTRAINT `home_visits_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `home_visits_teams_team` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE SET NULL, CONSTRAINT `home_visits_households_visits` FOREIGN KEY (`household_id`) REFERENCES `households` (`id`) ON DELETE NO ACTION, CONSTRAINT `home_visits_requests_visits` FOREIGN KEY (`request_id`) REFERENCES `requests` (`id`) ON DELETE SET NULL);
-- Set sequence for "new_home_visits" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_home_visits", 81604378624);
-- Copy rows from old table "home_visits" to new temporary table "new_home_visits"
INSERT INTO `new_home_visits` (`id`, `created_at`, `updated_at`, `kind`, `visited_at`, `minutes`, `notes`, `recorded_by_id`, `community_id`, `team_id`, `household_id`, `request_id`) SELECT `id`, `created_at`, `updated_at`, `kind`, `visited_at`, `minutes`, `notes`, `recorded_by_id`, `community_id`, `team_id`, `household_id`, `request_id` FROM `home_visits`;
-- Drop "home_visits" table after copying rows
DROP TABLE `home_visits`;
-- Rename temporary table "new_home_visits" to "home_visits"
ALTER TABLE `new_home_visits` RENAME TO `home_visits`;
-- Create index "homevisit_community_id_visited_at" to table: "home_visits"
CREATE INDEX `homevisit_community_id_visited_at` ON `home_visits` (`community_id`, `visited_at`);
-- Create index "homevisit_household_id_visited_at" to table: "home_visits"
CREATE INDEX `homevisit_household_id_visited_at` ON `home_visits` (`household_id`, `visited_at`);
-- Create "new_registrations" table
CREATE TABLE `new_registrations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `offer_expires_at` datetime NULL, `status` text NOT NULL, `seats` integer NOT NULL DEFAULT (1), `queue_seq` integer NOT NULL DEFAULT (0), `consent_sensitive_at` datetime NULL, `check_in_code` text NOT NULL, `checked_in_at` datetime NULL, `checked_out_at` datetime NULL, `cancelled_at` datetime NULL, `cancel_reason` text NULL, `person_id` integer NOT NULL, `community_id` integer NOT NULL, `slot_id` integer NOT NULL, `activity_id` integer NOT NULL, CONSTRAINT `registrations_persons_registrations` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `registrations_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `registrations_slots_slot` FOREIGN KEY (`slot_id`) REFERENCES `slots` (`id`) ON DELETE NO ACTION, CONSTRAINT `registrations_activities_activity` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_registrations" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_registrations", 21474836480);
-- Copy rows from old table "registrations" to new temporary table "new_registrations"
INSERT INTO `new_registrations` (`id`, `created_at`, `updated_at`, `status`, `seats`, `queue_seq`, `consent_sensitive_at`, `check_in_code`, `checked_in_at`, `checked_out_at`, `cancelled_at`, `cancel_reason`, `person_id`, `community_id`, `slot_id`, `activity_id`) SELECT `id`, `created_at`, `updated_at`, `status`, `seats`, `queue_seq`, `consent_sensitive_at`, `check_in_code`, `checked_in_at`, `checked_out_at`, `cancelled_at`, `cancel_reason`, `person_id`, `community_id`, `slot_id`, `activity_id` FROM `registrations`;
-- Drop "registrations" table after copying rows
DROP TABLE `registrations`;
-- Rename temporary table "new_registrations" to "registrations"
ALTER TABLE `new_registrations` RENAME TO `registrations`;
-- Create index "registrations_check_in_code_key" to table: "registrations"
CREATE UNIQUE INDEX `registrations_check_in_code_key` ON `registrations` (`check_in_code`);
-- Create index "registration_slot_id_person_id" to table: "registrations"
CREATE UNIQUE INDEX `registration_slot_id_person_id` ON `registrations` (`slot_id`, `person_id`) WHERE status IN ('CONFIRMED','WAITLISTED','PENDING_APPROVAL','CHECKED_IN','CHECKED_OUT','OFFERED');
-- Create index "registration_slot_id_status_queue_seq" to table: "registrations"
CREATE INDEX `registration_slot_id_status_queue_seq` ON `registrations` (`slot_id`, `status`, `queue_seq`);
-- Create index "registration_person_id_created_at" to table: "registrations"
CREATE INDEX `registration_person_id_created_at` ON `registrations` (`person_id`, `created_at`);
-- Create index "registration_activity_id_status" to table: "registrations"
CREATE INDEX `registration_activity_id_status` ON `registrations` (`activity_id`, `status`);
-- Create "new_requests" table
CREATE TABLE `new_requests` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` text NOT NULL, `year` integer NOT NULL, `seq` integer NOT NULL, `kind` text NOT NULL, `channel` text NOT NULL, `status` text NOT NULL DEFAULT ('SUBMITTED'), `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `created_by_id` integer NULL, `outcome` text NULL, `resolution` text NULL, `satisfaction` integer NULL, `confirmed_by_staff` bool NOT NULL DEFAULT (false), `accepted_at` datetime NULL, `resolved_at` datetime NULL, `closed_at` datetime NULL, `due_at` datetime NULL, `version` integer NOT NULL DEFAULT (0), `household_id` integer NULL, `community_id` integer NOT NULL, `submitter_id` integer NULL, `team_id` integer NULL, `assignee_id` integer NULL, CONSTRAINT `requests_households_requests` FOREIGN KEY (`household_id`) REFERENCES `households` (`id`) ON DELETE SET NULL, CONSTRAINT `requests_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `requests_persons_submitter` FOREIGN KEY (`submitter_id`) REFERENCES `persons` (`id`) ON DELETE SET NULL, CONSTRAINT `requests_teams_team` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE SET NULL, CONSTRAINT `requests_persons_assignee` FOREIGN KEY (`assignee_id`) REFERENCES `persons` (`id`) ON DELETE SET NULL);
-- Set sequence for "new_requests" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_requests", 90194313216);
-- Copy rows from old table "requests" to new temporary table "new_requests"
INSERT INTO `new_requests` (`id`, `created_at`, `updated_at`, `number`, `year`, `seq`, `kind`, `channel`, `status`, `title`, `description`, `created_by_id`, `outcome`, `resolution`, `satisfaction`, `confirmed_by_staff`, `accepted_at`, `resolved_at`, `closed_at`, `due_at`, `version`, `household_id`, `community_id`, `submitter_id`, `team_id`, `assignee_id`) SELECT `id`, `created_at`, `updated_at`, `number`, `year`, `seq`, `kind`, `channel`, `status`, `title`, `description`, `created_by_id`, `outcome`, `resolution`, `satisfaction`, `confirmed_by_staff`, `accepted_at`, `resolved_at`, `closed_at`, `due_at`, `version`, `household_id`, `community_id`, `submitter_id`, `team_id`, `assignee_id` FROM `requests`;
-- Drop "requests" table after copying rows
DROP TABLE `requests`;
-- Rename temporary table "new_requests" to "requests"
ALTER TABLE `new_requests` RENAME TO `requests`;
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
-- Create "new_slots" table
CREATE TABLE `new_slots` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `waitlist_mode` text NOT NULL DEFAULT ('INSTANT'), `offer_hours` integer NOT NULL DEFAULT (12), `offer_close_minutes` integer NOT NULL DEFAULT (120), `name` text NOT NULL, `kind` text NOT NULL DEFAULT ('ATTENDEE'), `capacity` integer NOT NULL, `taken` integer NOT NULL DEFAULT (0), `waitlisted` integer NOT NULL DEFAULT (0), `pending` integer NOT NULL DEFAULT (0), `checked_in` integer NOT NULL DEFAULT (0), `starts_at` datetime NULL, `ends_at` datetime NULL, `max_seats_per_signup` integer NOT NULL DEFAULT (1), `requires_approval` bool NOT NULL DEFAULT (false), `waitlist_enabled` bool NOT NULL DEFAULT (true), `required_qualifications` json NULL, `no_show_limit` integer NULL, `series_position` integer NULL, `activity_id` integer NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `slots_activities_slots` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE NO ACTION, CONSTRAINT `slots_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `slot_capacity_nonneg` CHECK (capacity >= 0), CONSTRAINT `slot_checked_in_nonneg` CHECK (checked_in >= 0), CONSTRAINT `slot_pending_nonneg` CHECK (pending >= 0), CONSTRAINT `slot_taken_range` CHECK (taken >= 0 AND taken <= capacity), CONSTRAINT `slot_waitlisted_nonneg` CHECK (waitlisted >= 0));
-- Set sequence for "new_slots" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_slots", 30064771072);
-- Copy rows from old table "slots" to new temporary table "new_slots"
INSERT INTO `new_slots` (`id`, `created_at`, `updated_at`, `name`, `kind`, `capacity`, `taken`, `waitlisted`, `pending`, `checked_in`, `starts_at`, `ends_at`, `max_seats_per_signup`, `requires_approval`, `waitlist_enabled`, `activity_id`, `community_id`) SELECT `id`, `created_at`, `updated_at`, `name`, `kind`, `capacity`, `taken`, `waitlisted`, `pending`, `checked_in`, `starts_at`, `ends_at`, `max_seats_per_signup`, `requires_approval`, `waitlist_enabled`, `activity_id`, `community_id` FROM `slots`;
-- Drop "slots" table after copying rows
DROP TABLE `slots`;
-- Rename temporary table "new_slots" to "slots"
ALTER TABLE `new_slots` RENAME TO `slots`;
-- Create index "slot_activity_id" to table: "slots"
CREATE INDEX `slot_activity_id` ON `slots` (`activity_id`);
-- Create "activity_templates" table
CREATE TABLE `activity_templates` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `category` text NOT NULL, `service_type` text NOT NULL, `team_id` integer NULL, `venue_id` integer NULL, `duration_minutes` integer NOT NULL, `checkin_opens_minutes` integer NOT NULL DEFAULT (60), `signup_opens_minutes` integer NULL, `signup_closes_minutes` integer NULL, `slots` json NOT NULL, `name` text NOT NULL, `start_minute` integer NOT NULL DEFAULT (0), `community_id` integer NOT NULL, CONSTRAINT `activity_templates_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "activity_templates" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("activity_templates", 150323855360);
-- Create index "activitytemplate_community_id_name" to table: "activity_templates"
CREATE INDEX `activitytemplate_community_id_name` ON `activity_templates` (`community_id`, `name`);
-- Create "qualifications" table
CREATE TABLE `qualifications` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `expires_on` text NOT NULL, `valid_until` datetime NOT NULL, `evidence_ref` text NOT NULL, `recorded_by_id` integer NULL, `expiry_notified_at` datetime NULL, `community_id` integer NOT NULL, `person_id` integer NOT NULL, `kind_id` integer NOT NULL, CONSTRAINT `qualifications_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION, CONSTRAINT `qualifications_persons_person` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `qualifications_qualification_kinds_kind` FOREIGN KEY (`kind_id`) REFERENCES `qualification_kinds` (`id`) ON DELETE NO ACTION);
-- Set sequence for "qualifications" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("qualifications", 154618822656);
-- Create index "qualification_person_id_kind_id" to table: "qualifications"
CREATE UNIQUE INDEX `qualification_person_id_kind_id` ON `qualifications` (`person_id`, `kind_id`);
-- Create index "qualification_community_id_valid_until" to table: "qualifications"
CREATE INDEX `qualification_community_id_valid_until` ON `qualifications` (`community_id`, `valid_until`);
-- Create "qualification_kinds" table
CREATE TABLE `qualification_kinds` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `community_id` integer NOT NULL, CONSTRAINT `qualification_kinds_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "qualification_kinds" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("qualification_kinds", 158913789952);
-- Create index "qualificationkind_community_id_name" to table: "qualification_kinds"
CREATE UNIQUE INDEX `qualificationkind_community_id_name` ON `qualification_kinds` (`community_id`, `name`);
-- Create "series" table
CREATE TABLE `series` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `description` text NOT NULL DEFAULT (''), `category` text NOT NULL, `service_type` text NOT NULL, `team_id` integer NULL, `venue_id` integer NULL, `duration_minutes` integer NOT NULL, `checkin_opens_minutes` integer NOT NULL DEFAULT (60), `signup_opens_minutes` integer NULL, `signup_closes_minutes` integer NULL, `slots` json NOT NULL, `rrule` text NOT NULL, `dtstart` datetime NOT NULL, `start_shift_minutes` integer NOT NULL DEFAULT (0), `exdates` json NULL, `cancelled_from` datetime NULL, `materialised_until` datetime NULL, `recurring_signup` bool NOT NULL DEFAULT (false), `standing_cap` integer NULL, `community_id` integer NOT NULL, CONSTRAINT `series_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "series" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("series", 163208757248);
-- Create "standing_signups" table
CREATE TABLE `standing_signups` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `person_id` integer NOT NULL, `position` integer NOT NULL, `booked_until` datetime NULL, `cancelled_at` datetime NULL, `series_id` integer NOT NULL, `community_id` integer NOT NULL, CONSTRAINT `standing_signups_series_standing` FOREIGN KEY (`series_id`) REFERENCES `series` (`id`) ON DELETE NO ACTION, CONSTRAINT `standing_signups_communities_community` FOREIGN KEY (`community_id`) REFERENCES `communities` (`id`) ON DELETE NO ACTION);
-- Set sequence for "standing_signups" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("standing_signups", 167503724544);
-- Create index "standingsignup_series_id_person_id_position" to table: "standing_signups"
CREATE UNIQUE INDEX `standingsignup_series_id_person_id_position` ON `standing_signups` (`series_id`, `person_id`, `position`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
