package scheme
