local x = 1 +
;
