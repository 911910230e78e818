module.exports = { shout: (s) => s.toUpperCase() + '!' };
