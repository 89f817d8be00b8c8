"""Working groups: membership, coordinators, the groups' own chats and announcements."""
