# async_consumer = none: no queue, so the app runs its tasks inline (settings: no TASKS_QUEUE_URL). Empty values
# are the settings' defaults.
locals {
  tasks_queue_url                  = ""
  tasks_dead_letter_queue_url      = ""
  tasks_visibility_timeout_seconds = ""
  tasks_time_limit_seconds         = ""
  # Every service runs as the application's task role.
  service_task_role_arns = {}
  # No queue: monitoring.tf creates no queue alarms.
  tasks_queue_name             = null
  tasks_dead_letter_queue_name = null
}
