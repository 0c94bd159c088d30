"""Stage 2, across photos: sort the faces into persons (set aside, reduce, cluster, cannot-link,
join split persons) and score the sorting against labels when there are any."""
