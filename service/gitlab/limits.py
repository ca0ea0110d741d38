"""What GitLab accepts in a commit status (lib/api/commit_statuses.rb; app/models/commit_status.rb):
longer values are refused with 400, so callers shorten or leave them out."""

COMMIT_STATUS_TARGET_URL_MAX = 255
COMMIT_STATUS_DESCRIPTION_MAX = 255
