"""The attribute that `retries.apply_policy` stamps on a task: the route the topology resolved for it.

Dead-letter capture reads it to learn the task's route; a task without it is not the topology's.
"""

POLICY_MARK = "_topology_resolution"
